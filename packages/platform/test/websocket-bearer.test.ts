/**
 * The bearer token a browser sends as a WebSocket subprotocol (browsers cannot set Authorization
 * on a WebSocket): taken as the credential, and never forwarded to the cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { BEARER_PROTOCOL_PREFIX, bearerFromWebSocketProtocol } from '../src/server/front.js';

const request = (headers: Record<string, string>) => ({ headers: { ...headers } }) as unknown as IncomingMessage;
const offer = (token: string) => `${BEARER_PROTOCOL_PREFIX}${Buffer.from(token).toString('base64url')}`;

test('the token in the protocol list becomes the Authorization header and leaves the list', () => {
  const req = request({ 'sec-websocket-protocol': `v5.channel.k8s.io, ${offer('eyJ.a.b')}, v4.channel.k8s.io` });
  bearerFromWebSocketProtocol(req);
  assert.equal(req.headers.authorization, 'Bearer eyJ.a.b');
  assert.equal(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io, v4.channel.k8s.io');
});

test('an Authorization header wins, and the protocol token is still removed', () => {
  const req = request({ authorization: 'Bearer header-token', 'sec-websocket-protocol': `${offer('other')}` });
  bearerFromWebSocketProtocol(req);
  assert.equal(req.headers.authorization, 'Bearer header-token');
  assert.equal(req.headers['sec-websocket-protocol'], undefined);
});

test('two tokens, bad encodings and control characters authenticate nobody', () => {
  for (const protocols of [`${offer('a')}, ${offer('b')}`, `${BEARER_PROTOCOL_PREFIX}not+base64url`, offer('a\nb'), `${BEARER_PROTOCOL_PREFIX}`]) {
    const req = request({ 'sec-websocket-protocol': protocols });
    bearerFromWebSocketProtocol(req);
    assert.equal(req.headers.authorization, undefined, protocols);
    assert.ok(!String(req.headers['sec-websocket-protocol'] ?? '').includes(BEARER_PROTOCOL_PREFIX));
  }
});

test('requests without the protocol are left alone', () => {
  const req = request({ 'sec-websocket-protocol': 'v5.channel.k8s.io' });
  bearerFromWebSocketProtocol(req);
  assert.equal(req.headers.authorization, undefined);
  assert.equal(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io');
});
