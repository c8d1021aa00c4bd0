/**
 * The one deploy path of CoopTrace: tests, scripts and `npm start` all call deployCoopTrace().
 * It uses only ethers and the generated TypeChain factories, so it runs inside Hardhat and in the
 * gateway alike.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ContractRunner, Signer, TransactionReceipt } from "ethers";
import {
  BatchRegistry__factory,
  CooperativeRegistry__factory,
  Forwarder__factory,
  SaleEscrow__factory,
} from "../../typechain-types";
import type { BatchRegistry, CooperativeRegistry, Forwarder, SaleEscrow } from "../../typechain-types";

export const CONTRACT_NAMES = ["Forwarder", "CooperativeRegistry", "BatchRegistry", "SaleEscrow"] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface DeploymentFile {
  chainId: number;
  deployedAt: string;
  contracts: Record<ContractName, { address: string; blockNumber: number; transactionHash: string }>;
  /** Embedded demo chain only: the demo stablecoin (a mock anyone can mint). */
  demoStablecoin?: string;
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
  /** ERC-20 tokens (stablecoins) allowed for sales. */
  allowedTokens?: string[];
}

export interface CoopTraceContracts {
  forwarder: Forwarder;
  registry: CooperativeRegistry;
  batches: BatchRegistry;
  escrow: SaleEscrow;
}

export interface Deployed extends CoopTraceContracts {
  deployment: DeploymentFile;
}

async function mined(tx: { wait(): Promise<TransactionReceipt | null> }): Promise<TransactionReceipt> {
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) throw new Error("deployment transaction failed");
  return receipt;
}

/**
 * Deploys the forwarder and the three contracts, wires the escrow's right to draw batch quantities,
 * grants the given roles and allows the given tokens. The deployer becomes the platform admin
 * (DEFAULT_ADMIN_ROLE), to be handed over later with the registry's two-step transfer if needed.
 */
export async function deployCoopTrace(deployer: Signer, options: DeployOptions = {}): Promise<Deployed> {
  const admin = await deployer.getAddress();
  const provider = deployer.provider;
  if (provider === null) throw new Error("the deployer needs a provider");
  const { chainId } = await provider.getNetwork();
  const record: Partial<DeploymentFile["contracts"]> = {};

  async function deploy<T extends { waitForDeployment(): Promise<unknown>; getAddress(): Promise<string> }>(
    name: ContractName,
    pending: Promise<T & { deploymentTransaction(): { wait(): Promise<TransactionReceipt | null> } | null }>,
  ): Promise<T> {
    const contract = await pending;
    const tx = contract.deploymentTransaction();
    if (tx === null) throw new Error(`${name}: no deployment transaction`);
    const receipt = await mined(tx);
    record[name] = {
      address: await contract.getAddress(),
      blockNumber: receipt.blockNumber,
      transactionHash: receipt.hash,
    };
    return contract;
  }

  const forwarder = await deploy("Forwarder", new Forwarder__factory(deployer).deploy());
  const forwarderAddress = await forwarder.getAddress();
  const registry = await deploy(
    "CooperativeRegistry",
    new CooperativeRegistry__factory(deployer).deploy(
      admin,
      options.adminTransferDelay ?? 3 * 24 * 3600,
      forwarderAddress,
    ),
  );
  const batches = await deploy(
    "BatchRegistry",
    new BatchRegistry__factory(deployer).deploy(await registry.getAddress(), forwarderAddress),
  );
  const escrow = await deploy(
    "SaleEscrow",
    new SaleEscrow__factory(deployer).deploy(
      await registry.getAddress(),
      await batches.getAddress(),
      forwarderAddress,
      options.feeRecipient ?? admin,
      options.feeBps ?? 100,
    ),
  );

  await mined(await registry.grantRole(await registry.DRAWER_ROLE(), await escrow.getAddress()));
  const grants: [string, string[] | undefined][] = [
    [await registry.REGISTRAR_ROLE(), options.registrars],
    [await registry.CERTIFIER_ROLE(), options.certifiers],
    [await registry.ARBITER_ROLE(), options.arbiters],
  ];
  for (const [role, accounts] of grants) {
    for (const account of accounts ?? []) await mined(await registry.grantRole(role, account));
  }
  for (const token of options.allowedTokens ?? []) await mined(await escrow.setTokenAllowed(token, true));

  const deployment: DeploymentFile = {
    chainId: Number(chainId),
    deployedAt: new Date().toISOString(),
    contracts: record as DeploymentFile["contracts"],
  };
  return { forwarder, registry, batches, escrow, deployment };
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

/** Typed handles on a recorded deployment. */
export function attachCoopTrace(deployment: DeploymentFile, runner: ContractRunner): CoopTraceContracts {
  const c = deployment.contracts;
  return {
    forwarder: Forwarder__factory.connect(c.Forwarder.address, runner),
    registry: CooperativeRegistry__factory.connect(c.CooperativeRegistry.address, runner),
    batches: BatchRegistry__factory.connect(c.BatchRegistry.address, runner),
    escrow: SaleEscrow__factory.connect(c.SaleEscrow.address, runner),
  };
}
