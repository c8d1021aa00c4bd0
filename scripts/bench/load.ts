/**
 * Load through the gateway's full HTTP path: POST /api/v1/batches by many members, each request a
 * unique lot code, `connections` requests in flight at all times (closed loop), for `seconds`.
 * autocannon drives the HTTP; every answer is recorded with its latency, status, txHash and
 * operation id (to trace it through the gateway's log afterwards).
 */
import autocannon from "autocannon";

export interface BenchMember {
  token: string;
  userId: string;
}

export interface Answer {
  status: number;
  latencyMs: number;
  /** Date.now() when the answer was complete. */
  endMs: number;
  txHash?: string;
  operationId?: string;
  code?: string;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  answers: Answer[];
  /** Connection errors and timeouts (no HTTP answer). */
  transportErrors: number;
}

const day = 86_400_000;

/** The body of one registration (shared with the raw run: same product, quantity, origin, one contributor). */
export function batchFields(lotCode: string) {
  return {
    productCode: "dates-mejhoul",
    lotCode,
    quantity: "1000",
    unit: "kg",
    origin: "Erfoud",
    productionDate: new Date(Math.floor((Date.now() - day) / day) * day).toISOString(),
  };
}

export function runGatewayLoad(options: {
  url: string;
  cooperativeId: number;
  members: BenchMember[];
  connections: number;
  seconds: number;
  nextLot: () => string;
}): Promise<LoadResult> {
  const { members, cooperativeId } = options;
  let turn = 0;
  const answers: Answer[] = [];
  let transportErrors = 0;
  // autocannon calls onResponse (with the body) and then emits 'response' (with the latency) for the
  // same answer, synchronously one after the other: the body waits here for its latency.
  let lastBody: { status: number; body: string } | undefined;

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        timeout: 60,
        requests: [
          {
            method: "POST",
            path: "/api/v1/batches",
            setupRequest(request) {
              const m = members[turn++ % members.length];
              return {
                ...request,
                headers: { "content-type": "application/json", authorization: `Bearer ${m.token}` },
                body: JSON.stringify({
                  cooperativeId,
                  ...batchFields(options.nextLot()),
                  contributors: [{ memberId: m.userId, weight: "1000" }],
                }),
              };
            },
            onResponse(status, body) {
              lastBody = { status, body };
            },
          },
        ],
      },
      (err) => {
        if (err) reject(err);
        else resolve({ connections: options.connections, seconds: options.seconds, answers, transportErrors });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      const answer: Answer = { status: statusCode, latencyMs: responseTime, endMs: Date.now() };
      if (lastBody !== undefined && lastBody.status === statusCode) {
        try {
          const parsed = JSON.parse(lastBody.body) as { txHash?: string; operationId?: string; code?: string };
          answer.txHash = parsed.txHash;
          answer.operationId = parsed.operationId;
          answer.code = parsed.code;
        } catch {
          // not JSON
        }
      }
      lastBody = undefined;
      answers.push(answer);
    });
    instance.on("reqError", () => {
      transportErrors++;
    });
  });
}
