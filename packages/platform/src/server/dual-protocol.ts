/**
 * One port, two protocols: an http.Server that also answers TLS. Each new connection's first byte
 * tells them apart (0x16 opens a TLS handshake; no HTTP request starts with it) and the connection
 * goes to the plain or the TLS server, both with the same request handler. Upgrade requests made
 * over TLS reach the plain server's 'upgrade' listeners, so the front handles them once.
 *
 * Why: the console is served over plain HTTP (its default, as KubeSphere's), but kubectl sends
 * bearer tokens only over TLS (client-go sets credentials only for TLS transports), so the
 * per-user kubeconfigs need an https:// URL; on the same port it stays stable across restarts
 * without another port to configure.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';

const TLS_HANDSHAKE = 0x16;

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
}

export function dualProtocolServer(handler: (req: IncomingMessage, res: ServerResponse) => void, tls: TlsMaterial): Server {
  const plain = createHttpServer(handler);
  const secure = createHttpsServer({ cert: tls.cert, key: tls.key }, handler);
  secure.on('upgrade', (req, socket, head) => plain.emit('upgrade', req, socket, head));
  secure.on('tlsClientError', (_err, socket) => socket.destroy());

  const emit = plain.emit.bind(plain) as (event: string | symbol, ...args: unknown[]) => boolean;
  plain.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event !== 'connection') return emit(event, ...args);
    const socket = args[0] as Socket;
    // Until a server owns the socket, its errors and silence are handled here (a connection that never speaks is closed).
    const onError = () => socket.destroy();
    socket.on('error', onError);
    const silent = setTimeout(() => socket.destroy(), plain.headersTimeout || 60_000);
    silent.unref();
    socket.once('close', () => clearTimeout(silent));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(silent);
      socket.removeListener('error', onError);
      // Put the byte back and hand the connection over; the chosen server reads it again from the start.
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) {
        // The TLS side keeps the plain side's timeouts (fastify sets them on the server it listens with).
        secure.keepAliveTimeout = plain.keepAliveTimeout;
        secure.requestTimeout = plain.requestTimeout;
        secure.headersTimeout = plain.headersTimeout;
        secure.emit('connection', socket);
      } else {
        emit('connection', socket);
        socket.resume();
      }
    });
    return true;
  }) as typeof plain.emit;

  // Closing the front closes the connections of both sides.
  const closeAll = plain.closeAllConnections.bind(plain);
  plain.closeAllConnections = () => {
    closeAll();
    secure.closeAllConnections();
  };
  const closeIdle = plain.closeIdleConnections.bind(plain);
  plain.closeIdleConnections = () => {
    closeIdle();
    secure.closeIdleConnections();
  };
  return plain;
}
