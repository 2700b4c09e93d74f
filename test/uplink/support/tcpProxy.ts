/**
 * A TCP proxy between a client under test and a real broker, which the test can cut: cut()
 * destroys every open pair of sockets at once, as a pulled cable or a killed process would look
 * to the broker (no DISCONNECT, so mosquitto publishes the will). New connections keep being
 * forwarded unless refuse(true).
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #refusing = false;
  #accepted = 0;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (proxy === undefined) {
        client.destroy();
      } else {
        proxy.#pipe(client, targetPort);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") {
      throw new Error("proxy has no TCP address");
    }
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  get accepted(): number {
    return this.#accepted;
  }

  /** While true, new connections are closed at once (the broker seems down). */
  refuse(refusing: boolean): void {
    this.#refusing = refusing;
  }

  /** Destroys every forwarded connection, both sides. */
  cut(): void {
    for (const socket of this.#sockets) {
      socket.destroy();
    }
    this.#sockets.clear();
  }

  async kill(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, targetPort: number): void {
    if (this.#refusing) {
      client.destroy();
      return;
    }
    this.#accepted++;
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
