/** EIP-712 types shared by custody (which signs) and the relayer (which asks it to). */

/** One field of an EIP-712 struct type. */
export interface TypedDataField {
  name: string;
  type: string;
}

/** An EIP-712 domain (the forwarder's comes from its eip712Domain()); absent or null fields are left out. */
export interface TypedDataDomain {
  name?: string | null;
  version?: string | null;
  chainId?: bigint | number | string | null;
  verifyingContract?: string | null;
  salt?: string | Uint8Array | null;
}
