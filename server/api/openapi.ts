/**
 * The OpenAPI 3.1 document, built from the same zod schemas that validate requests: routes are
 * declared through `defineRoute`, which both registers the handler and records its contract.
 */
import type { Request, RequestHandler, Response, Router } from "express";
import { z } from "zod";
import { ApiError } from "./problem";

type Method = "get" | "post" | "put" | "delete";

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: Method;
  path: string; // express syntax, e.g. /batches/:id
  summary: string;
  tags: string[];
  /** Roles allowed; empty means public. */
  auth: string[];
  body?: B;
  query?: Q;
  params?: P;
  responses: Record<number, string>;
  handler: (input: {
    body: z.output<B>;
    query: z.output<Q>;
    params: z.output<P>;
    req: Request;
    res: Response;
  }) => Promise<unknown> | unknown;
}

export interface OpenApiBuilder {
  defineRoute<
    B extends z.ZodType = z.ZodUndefined,
    Q extends z.ZodType = z.ZodObject,
    P extends z.ZodType = z.ZodObject,
  >(
    router: Router,
    spec: RouteSpec<B, Q, P>,
  ): void;
  document(serverUrl: string): Record<string, unknown>;
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, "{$1}");
}

function jsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
}

export function createOpenApi(
  prefix: string,
  info: { title: string; version: string; description: string },
): OpenApiBuilder {
  const paths: Record<string, Record<string, unknown>> = {};
  return {
    defineRoute(router, spec) {
      const op: Record<string, unknown> = {
        summary: spec.summary,
        tags: spec.tags,
        security: spec.auth.length > 0 ? [{ bearer: [] }] : [],
        "x-roles": spec.auth,
        responses: Object.fromEntries(
          Object.entries(spec.responses).map(([status, description]) => [
            status,
            {
              description,
              content:
                Number(status) >= 400
                  ? { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } }
                  : { "application/json": {} },
            },
          ]),
        ),
      };
      const parameters: unknown[] = [];
      for (const [where, schema] of [
        ["path", spec.params],
        ["query", spec.query],
      ] as const) {
        if (schema instanceof z.ZodObject) {
          for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
            parameters.push({
              name,
              in: where,
              required: where === "path" || !field.safeParse(undefined).success,
              schema: jsonSchema(field),
            });
          }
        }
      }
      if (parameters.length > 0) op.parameters = parameters;
      if (spec.method === "post") {
        op.parameters = [
          ...(parameters ?? []),
          { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 128 } },
        ];
      }
      if (spec.body)
        op.requestBody = {
          required: !spec.body.safeParse(undefined).success,
          content: { "application/json": { schema: jsonSchema(spec.body) } },
        };
      const key = toOpenApiPath(prefix + spec.path);
      paths[key] = { ...(paths[key] ?? {}), [spec.method]: op };

      const handler: RequestHandler = async (req, res) => {
        // Who may call comes before what they sent: a stranger learns nothing from validation.
        if (spec.auth.length > 0) {
          if (!req.user) throw new ApiError(401, "unauthenticated", "this route needs a bearer token");
          if (!spec.auth.includes("any") && !spec.auth.includes(req.user.role)) {
            throw new ApiError(403, "forbidden", `this route is for: ${spec.auth.join(", ")}`);
          }
        }
        const params = spec.params ? spec.params.parse(req.params) : req.params;
        const query = spec.query ? spec.query.parse(req.query) : req.query;
        const body = spec.body ? spec.body.parse(req.body) : undefined;
        const result = await spec.handler({ body, query, params, req, res } as never);
        if (!res.headersSent && result !== undefined) res.json(result);
      };
      router[spec.method](spec.path, handler);
    },
    document(serverUrl) {
      return {
        openapi: "3.1.0",
        info,
        servers: [{ url: serverUrl + prefix }],
        components: {
          securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
          schemas: {
            Problem: {
              type: "object",
              required: ["type", "title", "status", "code", "detail"],
              properties: {
                type: { type: "string" },
                title: { type: "string" },
                status: { type: "integer" },
                code: { type: "string", description: "stable machine-readable error code" },
                detail: { type: "string" },
              },
            },
          },
        },
        paths,
      };
    },
  };
}
