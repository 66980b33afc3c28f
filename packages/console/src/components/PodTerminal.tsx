/**
 * A web terminal into a container: xterm.js (its own chunk, loaded when the tab opens) over the
 * exec WebSocket of the platform front, `v5.channel.k8s.io`: each binary message is one channel's
 * bytes after a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 the exit Status, 4 resize
 * (`{"Width","Height"}`). A browser cannot set Authorization on a WebSocket, so the session's
 * token travels as the `base64url.bearer.authorization.k8s.io.<token>` subprotocol, which the
 * front takes as the credential and removes before the upgrade reaches the cluster.
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Alert, Button, Label, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { session } from '../api/session';
import type { K8sObject } from '../models/types';
import { ContainerSelect, podPath } from './ContainerSelect';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
export const EXEC_PROTOCOL = 'v5.channel.k8s.io';
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function frame(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** Columns and rows that fit the element, from the size of one rendered character. */
function fit(term: Terminal, host: HTMLElement): { cols: number; rows: number } {
  const probe = document.createElement('span');
  probe.textContent = 'W'.repeat(10);
  probe.style.cssText = `font-family:${term.options.fontFamily};font-size:${term.options.fontSize}px;position:absolute;visibility:hidden;white-space:pre`;
  document.body.appendChild(probe);
  const rect = probe.getBoundingClientRect();
  probe.remove();
  const charWidth = rect.width / 10 || 8;
  const lineHeight = (rect.height || 17) * (term.options.lineHeight ?? 1);
  const cols = Math.max(20, Math.floor((host.clientWidth - 24) / charWidth));
  const rows = Math.max(5, Math.floor(host.clientHeight / lineHeight));
  return { cols, rows };
}

type State = 'connecting' | 'open' | 'closed';

export default function PodTerminal({ pod, cluster }: { pod: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const containers = ((pod.spec?.containers ?? []) as any[]).map((c) => c.name as string);
  const [container, setContainer] = useState(containers[0] ?? '');
  const [state, setState] = useState<State>('connecting');
  const [error, setError] = useState('');
  const [attempt, setAttempt] = useState(0);
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!host.current) return;
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'RedHatMono, Menlo, monospace',
      fontSize: 14,
      // Room below the baseline, so underscores are not clipped by the next row.
      lineHeight: 1.2,
      screenReaderMode: true,
      convertEol: false,
    });
    term.open(host.current);
    const size = fit(term, host.current);
    term.resize(size.cols, size.rows);
    term.focus();
    setState('connecting');
    setError('');

    const q = new URLSearchParams({ container, stdin: 'true', stdout: 'true', stderr: 'true', tty: 'true' });
    q.append('command', 'sh');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const path = `${podPath(pod, cluster)}/exec?${q}`;
    const token = session.current()?.accessToken ?? '';
    const ws = new WebSocket(`${scheme}//${location.host}${path}`, [
      EXEC_PROTOCOL,
      `${BEARER_PROTOCOL_PREFIX}${base64url(token)}`,
    ]);
    ws.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const sendResize = () => {
      if (ws.readyState === WebSocket.OPEN)
        ws.send(frame(RESIZE, encoder.encode(JSON.stringify({ Width: term.cols, Height: term.rows }))));
    };
    ws.onopen = () => {
      setState('open');
      sendResize();
    };
    ws.onmessage = (event) => {
      const data = new Uint8Array(event.data as ArrayBuffer);
      if (!data.length) return;
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDOUT || channel === STDERR) term.write(payload);
      else if (channel === STATUS) {
        try {
          const status = JSON.parse(decoder.decode(payload));
          if (status.status && status.status !== 'Success') setError(status.message ?? status.reason ?? '');
        } catch {
          setError(decoder.decode(payload));
        }
      }
    };
    ws.onerror = () => setError(t('terminal.failed'));
    ws.onclose = () => {
      setState('closed');
      term.write(`\r\n\x1b[2m${t('terminal.closed')}\x1b[0m\r\n`);
    };
    const input = term.onData((text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame(STDIN, encoder.encode(text)));
    });
    const resized = term.onResize(sendResize);
    const onWindowResize = () => {
      if (!host.current) return;
      const next = fit(term, host.current);
      if (next.cols !== term.cols || next.rows !== term.rows) term.resize(next.cols, next.rows);
    };
    window.addEventListener('resize', onWindowResize);
    return () => {
      window.removeEventListener('resize', onWindowResize);
      input.dispose();
      resized.dispose();
      ws.onclose = null;
      ws.close();
      term.dispose();
    };
  }, [cluster, pod.metadata.namespace, pod.metadata.name, container, attempt]);

  return (
    <div className="canopy-gap-top">
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <ContainerSelect containers={containers} value={container} onChange={setContainer} />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <Label
              isCompact
              color={state === 'open' ? 'green' : state === 'connecting' ? 'orange' : 'grey'}
              data-testid="terminal-state"
            >
              {t(`terminal.${state}`)}
            </Label>
          </ToolbarItem>
          {state === 'closed' && (
            <ToolbarItem>
              <Button variant="secondary" onClick={() => setAttempt(attempt + 1)}>
                {t('terminal.reconnect')}
              </Button>
            </ToolbarItem>
          )}
        </ToolbarContent>
      </Toolbar>
      {error && <Alert isInline variant="danger" title={error} className="canopy-gap-bottom" />}
      <div
        ref={host}
        className="canopy-terminal"
        role="region"
        aria-label={t('terminal.label', { container })}
        data-testid="terminal"
      />
    </div>
  );
}
