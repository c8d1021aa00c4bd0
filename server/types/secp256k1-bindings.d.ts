/** The native build of the secp256k1 package, without its JavaScript (elliptic) fallback: same API. */
declare module "secp256k1/bindings" {
  export * from "secp256k1";
}
