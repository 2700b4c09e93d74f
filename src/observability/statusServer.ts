/**
 * The read-only status endpoint (issue #7 item 3): GET /metrics (Prometheus text) and GET /status
 * (JSON, statusReport.ts) on loopback only, off unless observability.status.enabled. It is
 * unauthenticated, so the schema refuses any non-loopback host, and it reads nothing from a
 * request but its method and path: no body is read, other methods get 405, other paths 404.
 *
 * A port already in use is logged and the daemon keeps running without the endpoint: losing
 * observability must never stop data collection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Component } from "../daemon/component.js";
import type { Logger } from "./logger.js";
import type { GatewayMetrics, MetricSources } from "./metrics.js";
import { type StatusContext, statusDocument } from "./statusReport.js";

/** A scraper and a technician or two: more than this is a misbehaving client. */
const MAX_CONNECTIONS = 16;
const REQUEST_TIMEOUT_MS = 10_000;

export interface StatusServerSettings {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

export interface StatusServerDeps {
  readonly metrics: GatewayMetrics;
  readonly status: Omit<StatusContext, "sources">;
  readonly sources: MetricSources;
  readonly logger: Logger;
}

export class StatusServer implements Component {
  readonly name = "status-server";
  readonly #settings: StatusServerSettings;
  readonly #deps: StatusServerDeps;
  #server: Server | undefined;

  constructor(settings: StatusServerSettings, deps: StatusServerDeps) {
    this.#settings = settings;
    this.#deps = deps;
  }

  /** Where it listens, once started; undefined if it could not bind. */
  get address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === "object" ? address : undefined;
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#deps.metrics.attach(this.#deps.sources);
    const server = createServer((request, response) => this.#handle(request, response));
    server.maxConnections = MAX_CONNECTIONS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.headersTimeout = REQUEST_TIMEOUT_MS;
    const { host, port } = this.#settings;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port, signal }, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      signal.throwIfAborted();
      this.#deps.logger.error(
        { err: error, host, port },
        `status endpoint not started: cannot listen on ${host}:${port} (the daemon runs on without it)`,
      );
      server.close();
      return;
    }
    server.on("error", (error) => this.#deps.logger.warn({ err: error }, "status endpoint error"));
    this.#server = server;
    this.#deps.logger.info({ host, port: this.address?.port }, "status endpoint listening");
  }

  async stop(): Promise<void> {
    this.#deps.metrics.detach();
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) {
      return;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? "/").split("?", 1)[0];
    const route = path === "/metrics" ? this.#metrics : path === "/status" ? this.#status : undefined;
    if (route === undefined) {
      send(response, 404, "text/plain; charset=utf-8", "not found: GET /metrics or /status\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      send(response, 405, "text/plain; charset=utf-8", "method not allowed: this endpoint is read-only\n");
      return;
    }
    route.call(this).then(
      ({ type, body }) => send(response, 200, type, request.method === "HEAD" ? "" : body),
      (error: unknown) => {
        this.#deps.logger.warn({ err: error, path }, "status endpoint: request failed");
        send(response, 500, "text/plain; charset=utf-8", "internal error\n");
      },
    );
  }

  async #metrics(): Promise<{ type: string; body: string }> {
    return { type: this.#deps.metrics.contentType, body: await this.#deps.metrics.text() };
  }

  async #status(): Promise<{ type: string; body: string }> {
    const document = await statusDocument({ ...this.#deps.status, sources: this.#deps.sources });
    return { type: "application/json; charset=utf-8", body: `${JSON.stringify(document)}\n` };
  }
}

function send(response: ServerResponse, code: number, type: string, body: string): void {
  response.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
  response.end(body);
}
