/**
 * A TCP server on 127.0.0.1 that a test controls: it listens on a free port (port 0, or a given
 * port to come back on after a "restart"), counts the connections it accepted, and hands each
 * socket to the test's behaviour. close() stops listening and destroys every open socket.
 */
import { createServer, type Server, type Socket } from "node:net";

export type SocketBehaviour = (socket: Socket, index: number) => void;

export interface LocalTcpServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Sockets still open. */
  readonly open: ReadonlySet<Socket>;
  close(): Promise<void>;
}

export async function startLocalTcpServer(behaviour: SocketBehaviour, port = 0): Promise<LocalTcpServer> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    const index = accepted++;
    open.add(socket);
    socket.on("error", () => {
      // Resets from the client side are part of what the tests do.
    });
    socket.once("close", () => open.delete(socket));
    behaviour(socket, index);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("server has no TCP address");
  }
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) {
          socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/** A port that nothing listens on (just released by a server on port 0): connects are refused. */
export async function closedPort(): Promise<number> {
  const server = await startLocalTcpServer(() => undefined);
  const { port } = server;
  await server.close();
  return port;
}

/** Accepts and keeps the connection open, sending nothing. */
export const holdOpen: SocketBehaviour = () => undefined;
