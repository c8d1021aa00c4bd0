/**
 * The one deploy path (server/chain/deploy.ts) for Hardhat tests and scripts: an ethers signer as
 * the Deployer, and TypeChain handles on what it deployed. Dev code only (ethers and TypeChain are
 * devDependencies); the gateway deploys with viem (clientDeployer).
 */
import type { ContractRunner, Signer } from "ethers";
import {
  deployCoopTrace as deployWith,
  type Deployer,
  type DeploymentFile,
  type DeployOptions,
} from "../server/chain/deploy";
import {
  BatchRegistry__factory,
  CooperativeRegistry__factory,
  Forwarder__factory,
  PayoutLedger__factory,
  SaleEscrow__factory,
  type BatchRegistry,
  type CooperativeRegistry,
  type Forwarder,
  type PayoutLedger,
  type SaleEscrow,
} from "../typechain-types";

export interface CoopTraceContracts {
  forwarder: Forwarder;
  registry: CooperativeRegistry;
  batches: BatchRegistry;
  escrow: SaleEscrow;
  payouts: PayoutLedger;
}

export interface Deployed extends CoopTraceContracts {
  deployment: DeploymentFile;
}

/** An ethers signer (connected to a provider) as a Deployer. */
export async function ethersDeployer(signer: Signer): Promise<Deployer> {
  const provider = signer.provider;
  if (provider === null) throw new Error("the deployer needs a provider");
  const { chainId } = await provider.getNetwork();
  return {
    address: await signer.getAddress(),
    chainId: Number(chainId),
    async send(tx) {
      const sent = await signer.sendTransaction(tx);
      const receipt = await sent.wait();
      if (receipt === null || receipt.status !== 1) throw new Error("deployment transaction failed");
      return { hash: receipt.hash, blockNumber: receipt.blockNumber, contractAddress: receipt.contractAddress };
    },
    call: async (tx) => (await provider.call(tx)) as `0x${string}`,
  };
}

/** Typed handles on a recorded deployment. */
export function attachCoopTrace(deployment: DeploymentFile, runner: ContractRunner): CoopTraceContracts {
  const c = deployment.contracts;
  return {
    forwarder: Forwarder__factory.connect(c.Forwarder.address, runner),
    registry: CooperativeRegistry__factory.connect(c.CooperativeRegistry.address, runner),
    batches: BatchRegistry__factory.connect(c.BatchRegistry.address, runner),
    escrow: SaleEscrow__factory.connect(c.SaleEscrow.address, runner),
    payouts: PayoutLedger__factory.connect(c.PayoutLedger.address, runner),
  };
}

/** deployCoopTrace with an ethers signer, and the contracts as TypeChain handles connected to it. */
export async function deployCoopTrace(deployer: Signer, options: DeployOptions = {}): Promise<Deployed> {
  const deployment = await deployWith(await ethersDeployer(deployer), options);
  return { ...attachCoopTrace(deployment, deployer), deployment };
}
