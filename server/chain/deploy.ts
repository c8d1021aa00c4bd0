/**
 * The one deploy path of CoopTrace: tests, scripts and `npm start` all call deployCoopTrace(). It
 * takes a Deployer (send a transaction, make a call), so it runs on viem in the gateway
 * (clientDeployer below) and on Hardhat's ethers signers in tests and scripts (scripts/ethers-deploy.ts),
 * with the bytecode and ABIs generated from Hardhat's artifacts (abis.generated.ts).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  decodeFunctionResult,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  toHex,
  type Hex,
  type LocalAccount,
} from "viem";
import {
  batchRegistryAbi,
  batchRegistryBytecode,
  cooperativeRegistryAbi,
  cooperativeRegistryBytecode,
  forwarderAbi,
  forwarderBytecode,
  payoutLedgerAbi,
  payoutLedgerBytecode,
  saleEscrowAbi,
  saleEscrowBytecode,
} from "./abis.generated";
import type { ChainClient } from "./client";
import { sendAndWait } from "./send";

export const CONTRACT_NAMES = [
  "Forwarder",
  "CooperativeRegistry",
  "BatchRegistry",
  "SaleEscrow",
  "PayoutLedger",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface DeploymentFile {
  chainId: number;
  deployedAt: string;
  contracts: Record<ContractName, { address: string; blockNumber: number; transactionHash: string }>;
  /** Embedded demo chain only: the demo stablecoin (a mock anyone can mint). */
  demoStablecoin?: string;
  /** Embedded demo chain only: the demo dirham and euro e-money tokens (DemoMoney, 2 decimals, anyone can mint). */
  demoMoney?: { MAD: string; EUR: string };
}

export interface DeployOptions {
  /** Receives platform fees. Defaults to the deployer. */
  feeRecipient?: string;
  /** Platform fee in basis points, at most 500. Defaults to 100 (1%). */
  feeBps?: number;
  /** Delay of a transfer of the platform admin role, in seconds. Defaults to 3 days. */
  adminTransferDelay?: number;
  registrars?: string[];
  certifiers?: string[];
  arbiters?: string[];
  /** ERC-20 tokens (stablecoins) allowed for sales, with no currency recorded (tests). */
  allowedTokens?: string[];
  /** ERC-20 settlement tokens allowed for sales with their currency (ISO 4217: "MAD", "EUR"). */
  settlementTokens?: { address: string; currency: string }[];
}

/** What deploying needs of an account on a chain, whatever library holds the key. */
export interface Deployer {
  address: string;
  chainId: number;
  /**
   * Sends a transaction from the deployer (`to` absent: a contract creation) and resolves once it
   * is mined; a reverted transaction rejects.
   */
  send(tx: { to?: string; data: Hex }): Promise<{ hash: string; blockNumber: number; contractAddress: string | null }>;
  /** eth_call at the latest block. */
  call(tx: { to: string; data: Hex }): Promise<Hex>;
}

/** A Deployer over the gateway's client and a local account (viem). */
export function clientDeployer(client: ChainClient, account: LocalAccount): Deployer {
  return {
    address: account.address,
    chainId: client.chainId,
    async send(tx) {
      const r = await sendAndWait(client, account, tx);
      return { hash: r.hash, blockNumber: r.blockNumber, contractAddress: r.contractAddress };
    },
    call: (tx) => client.call(tx),
  };
}

/**
 * Deploys the forwarder and the three contracts, wires the escrow's right to draw batch quantities,
 * grants the given roles and allows the given tokens. The deployer becomes the platform admin
 * (DEFAULT_ADMIN_ROLE), to be handed over later with the registry's two-step transfer if needed.
 */
export async function deployCoopTrace(deployer: Deployer, options: DeployOptions = {}): Promise<DeploymentFile> {
  const admin = getAddress(deployer.address);
  const record: Partial<DeploymentFile["contracts"]> = {};

  async function deploy(name: ContractName, data: Hex): Promise<Hex> {
    const receipt = await deployer.send({ data });
    if (receipt.contractAddress === null) throw new Error(`${name}: no contract address in the receipt`);
    const address = getAddress(receipt.contractAddress);
    record[name] = { address, blockNumber: receipt.blockNumber, transactionHash: receipt.hash };
    return address;
  }
  const send = (to: Hex, data: Hex) => deployer.send({ to, data });
  async function role(name: "DRAWER_ROLE" | "REGISTRAR_ROLE" | "CERTIFIER_ROLE" | "ARBITER_ROLE"): Promise<Hex> {
    const out = await deployer.call({
      to: registry,
      data: encodeFunctionData({ abi: cooperativeRegistryAbi, functionName: name }),
    });
    return decodeFunctionResult({ abi: cooperativeRegistryAbi, functionName: name, data: out });
  }

  const forwarder = await deploy("Forwarder", encodeDeployData({ abi: forwarderAbi, bytecode: forwarderBytecode }));
  const registry = await deploy(
    "CooperativeRegistry",
    encodeDeployData({
      abi: cooperativeRegistryAbi,
      bytecode: cooperativeRegistryBytecode,
      args: [admin, options.adminTransferDelay ?? 3 * 24 * 3600, forwarder],
    }),
  );
  const batches = await deploy(
    "BatchRegistry",
    encodeDeployData({ abi: batchRegistryAbi, bytecode: batchRegistryBytecode, args: [registry, forwarder] }),
  );
  const escrow = await deploy(
    "SaleEscrow",
    encodeDeployData({
      abi: saleEscrowAbi,
      bytecode: saleEscrowBytecode,
      args: [registry, batches, forwarder, (options.feeRecipient ?? admin) as Hex, options.feeBps ?? 100],
    }),
  );

  await deploy(
    "PayoutLedger",
    encodeDeployData({ abi: payoutLedgerAbi, bytecode: payoutLedgerBytecode, args: [registry, forwarder] }),
  );

  const grant = (roleId: Hex, account: string) =>
    send(
      registry,
      encodeFunctionData({ abi: cooperativeRegistryAbi, functionName: "grantRole", args: [roleId, account as Hex] }),
    );
  await grant(await role("DRAWER_ROLE"), escrow);
  const grants: [Hex, string[] | undefined][] = [
    [await role("REGISTRAR_ROLE"), options.registrars],
    [await role("CERTIFIER_ROLE"), options.certifiers],
    [await role("ARBITER_ROLE"), options.arbiters],
  ];
  for (const [roleId, accounts] of grants) {
    for (const account of accounts ?? []) await grant(roleId, account);
  }
  for (const token of options.allowedTokens ?? []) {
    await send(
      escrow,
      encodeFunctionData({ abi: saleEscrowAbi, functionName: "setTokenAllowed", args: [token as Hex, true] }),
    );
  }
  for (const { address, currency } of options.settlementTokens ?? []) {
    await send(
      escrow,
      encodeFunctionData({
        abi: saleEscrowAbi,
        functionName: "setSettlementToken",
        args: [address as Hex, toHex(currency, { size: 3 })],
      }),
    );
  }

  return {
    chainId: deployer.chainId,
    deployedAt: new Date().toISOString(),
    contracts: record as DeploymentFile["contracts"],
  };
}

/** Where the deployment of `chainId` lives: `<dataDir>/deployments/<chainId>.json`. */
export function deploymentPath(dataDir: string, chainId: number | bigint): string {
  return path.join(dataDir, "deployments", `${chainId}.json`);
}

export function writeDeployment(dataDir: string, deployment: DeploymentFile): string {
  const file = deploymentPath(dataDir, deployment.chainId);
  // Owner-only like everything in the data folder (the folder 0700, its files 0600).
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n", { mode: 0o600 });
  if (process.platform !== "win32") chmodSync(file, 0o600); // `mode` applies only when the file is created
  return file;
}

export function readDeployment(file: string): DeploymentFile {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as DeploymentFile;
  for (const name of CONTRACT_NAMES) {
    if (typeof parsed.contracts?.[name]?.address !== "string") {
      throw new Error(`${file}: no address for ${name}`);
    }
  }
  return parsed;
}
