/**
 * The simulator's control interface (issue #7 item 1): HTTP on loopback only, so that a demo or
 * a test can inject a fault on demand. GET /state shows the plant; POST /faults starts a fault.
 * There is no authentication, which is why a non-loopback address is refused outright.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { FaultRequest, Plant } from "./plant.js";
import { FAULT_KINDS, type FaultKind } from "./plantSchema.js";

/** A fault request is a few dozen bytes; anything larger is refused before it is buffered. */
export const MAX_CONTROL_BODY_BYTES = 4096;

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") {
    return true;
  }
  return isIP(host) === 4 && host.startsWith("127.");
}

export interface ControlListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenControl(plant: Plant, host: string, port: number): Promise<ControlListener> {
  if (!isLoopback(host)) {
    throw new Error(`the control interface binds to loopback only (127.0.0.1 or ::1), not ${host}`);
  }
  const server = createServer((request, response) => {
    handle(plant, request, response).catch((error: unknown) => {
      reply(response, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: address !== null && typeof address === "object" ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(plant: Plant, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  if (path === "/state") {
    if (request.method !== "GET") {
      reply(response, 405, { error: "use GET /state" });
      return;
    }
    reply(response, 200, plant.state());
    return;
  }
  if (path === "/faults") {
    if (request.method !== "POST") {
      reply(response, 405, { error: "use POST /faults" });
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      reply(response, 413, { error: `body larger than ${MAX_CONTROL_BODY_BYTES} bytes` });
      return;
    }
    const parsed = parseFaultRequest(body);
    if (typeof parsed === "string") {
      reply(response, 400, { error: parsed });
      return;
    }
    const refused = plant.inject(parsed);
    reply(
      response,
      refused === undefined ? 201 : 400,
      refused === undefined ? { injected: parsed } : { error: refused },
    );
    return;
  }
  reply(response, 404, { error: "routes: GET /state, POST /faults" });
}

export function parseFaultRequest(body: string): FaultRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'expected JSON such as {"machine":"mill-drive","fault":"overload","durationS":60}';
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "expected a JSON object";
  }
  const { machine, fault, durationS, signal } = value as Record<string, unknown>;
  if (typeof machine !== "string") {
    return "machine: expected a machine name";
  }
  if (typeof fault !== "string" || !(FAULT_KINDS as readonly string[]).includes(fault)) {
    return `fault: expected one of ${FAULT_KINDS.join(", ")}`;
  }
  if (typeof durationS !== "number") {
    return "durationS: expected a number of seconds";
  }
  if (signal !== undefined && typeof signal !== "string") {
    return "signal: expected a signal name";
  }
  return { machine, fault: fault as FaultKind, durationS, signal };
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_CONTROL_BODY_BYTES) {
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    return;
  }
  response.writeHead(status, { "content-type": "application/json" });
  response.end(`${JSON.stringify(body)}\n`);
}
