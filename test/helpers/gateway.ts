/**
 * A real gateway for API tests: embedded anvil in a temporary data folder, real SQLite, HTTP on
 * port 0. `api` is a tiny fetch client that returns status, headers and parsed body.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../../server/config";
import { createLogger } from "../../server/log";
import { startGateway, type Gateway } from "../../server/main";
import { attachCoopTrace, type CoopTraceContracts } from "../../scripts/ethers-deploy";
import { createProvider } from "../../scripts/ethers-provider";
import { chainModeEnv } from "./chainMode";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}
  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }
  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const init: RequestInit = {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    };
    const res = await fetch(this.baseUrl + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }
  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>("GET", path, undefined, headers);
  }
  post<T = any>(path: string, body: unknown = {}, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body, headers);
  }
}

export interface TestGateway {
  gateway: Gateway;
  dataDir: string;
  api: ApiClient;
  admin: ApiClient;
  adminToken: string;
  /** Every log line written so far (to check that no secret leaks). */
  logs: string[];
  /** The test's own ethers view of the gateway's node and contracts (the gateway itself runs on viem). */
  provider: ReturnType<typeof createProvider>;
  contracts: CoopTraceContracts;
  stop(keepDir?: boolean): Promise<void>;
}

/**
 * Tests write many times as one user (a test's cooperative admin or member): the per-user limits
 * are set out of the way unless a test sets them itself (through `env`) to test them.
 */
export const TEST_LIMITS = { USER_WRITES_PER_MINUTE: "100000", USER_DAILY_GAS: "1000000000000" } as const;

export async function startTestGateway(
  options: { dataDir?: string; env?: Record<string, string>; writeTimeoutMs?: number } = {},
): Promise<TestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "cooptrace-gw-"));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString("utf8"));
      cb();
    },
  });
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    ...TEST_LIMITS,
    ...chainModeEnv(),
    ...options.env,
  });
  const gateway = await startGateway(config, {
    log: createLogger("info", sink),
    writeTimeoutMs: options.writeTimeoutMs ?? 20_000,
  });
  const adminToken = readFileSync(gateway.adminTokenFile, "utf8").trim();
  const api = new ApiClient(gateway.url);
  const provider = createProvider(gateway.ctx.rpcUrl, gateway.ctx.chainId, 20);
  return {
    gateway,
    dataDir,
    api,
    admin: api.as(adminToken),
    adminToken,
    logs,
    provider,
    contracts: attachCoopTrace(gateway.ctx.deployment, provider),
    async stop(keepDir = false) {
      provider.destroy();
      await gateway.stop();
      if (!keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
