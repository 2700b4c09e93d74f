/**
 * The demo's MQTT broker (issue #7 item 4: "starts an embedded MQTT broker (aedes) on a free
 * loopback port"), so that `npm run demo` needs no Mosquitto. aedes 1.x speaks MQTT 3.1 and 3.1.1
 * only (its CONNECT handler refuses protocol level 5), which is why config/demo.yaml sets
 * uplink.mqttVersion "3.1.1"; the production path to an MQTT 5 broker is the same code.
 *
 * The constructor does no I/O; start() listens on 127.0.0.1 (never on the network: there is no
 * authentication), stop() closes every client connection and the broker.
 */
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";

export class EmbeddedBroker {
  readonly #host: string;
  readonly #port: number;
  #broker: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  /** port 0 (the default) picks a free port; start() says which. */
  constructor(options: { readonly host?: string; readonly port?: number } = {}) {
    this.#host = options.host ?? "127.0.0.1";
    this.#port = options.port ?? 0;
  }

  /** The mqtt:// URL clients connect to, once started. */
  get url(): string {
    const address = this.#server?.address();
    if (address === null || address === undefined || typeof address !== "object") {
      throw new Error("the embedded broker is not started");
    }
    return `mqtt://${this.#host}:${address.port}`;
  }

  async start(): Promise<string> {
    const broker = await Aedes.createBroker();
    this.#broker = broker;
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      broker.handle(socket);
    });
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.#port, this.#host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = undefined;
    this.#broker = undefined;
    if (server !== undefined) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.#sockets) {
        socket.destroy();
      }
      this.#sockets.clear();
      await closed;
    }
    if (broker !== undefined) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    }
  }
}
