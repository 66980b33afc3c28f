/**
 * A container's log: the last lines, then followed as they come (`follow=true`, streamed through
 * the platform front), searchable (lines that do not match are hidden, matches counted), and
 * downloadable whole. At most `MAX_LINES` are kept in the page; older ones drop off the top.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Alert, Button, SearchInput, Switch, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import DownloadIcon from '@patternfly/react-icons/dist/esm/icons/download-icon';
import { send } from '../api/http';
import type { K8sObject } from '../models/types';
import { ContainerSelect, podPath } from './ContainerSelect';

const MAX_LINES = 5000;
const TAIL_LINES = 500;

export function containerNames(pod: K8sObject): string[] {
  return [...((pod.spec?.initContainers ?? []) as any[]), ...((pod.spec?.containers ?? []) as any[])].map((c) => c.name);
}

export default function PodLogs({ pod, cluster }: { pod: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const containers = containerNames(pod);
  const [container, setContainer] = useState(((pod.spec?.containers ?? []) as any[])[0]?.name ?? containers[0] ?? '');
  const [follow, setFollow] = useState(true);
  const [lines, setLines] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const [error, setError] = useState('');
  const [streaming, setStreaming] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);
  const base = `${podPath(pod, cluster)}/log`;

  useEffect(() => {
    const abort = new AbortController();
    setLines([]);
    setError('');
    const q = new URLSearchParams({ container, tailLines: String(TAIL_LINES) });
    if (follow) q.set('follow', 'true');
    void (async () => {
      try {
        const response = await send(`${base}?${q}`, { signal: abort.signal, headers: { accept: 'text/plain' } });
        setStreaming(follow);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let partial = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const text = partial + value;
          const parts = text.split('\n');
          partial = parts.pop() ?? '';
          if (parts.length) setLines((old) => [...old, ...parts].slice(-MAX_LINES));
        }
        if (partial) setLines((old) => [...old, partial].slice(-MAX_LINES));
      } catch (err) {
        if (!abort.signal.aborted) setError((err as Error).message);
      } finally {
        if (!abort.signal.aborted) setStreaming(false);
      }
    })();
    return () => abort.abort();
  }, [base, container, follow]);

  // Following keeps the newest line in view.
  useEffect(() => {
    if (follow && !search) bottom.current?.scrollIntoView({ block: 'nearest' });
  }, [lines, follow, search]);

  const needle = search.toLowerCase();
  const shown = useMemo(() => (needle ? lines.filter((l) => l.toLowerCase().includes(needle)) : lines), [lines, needle]);

  const download = async () => {
    try {
      const response = await send(`${base}?${new URLSearchParams({ container })}`, { headers: { accept: 'text/plain' } });
      const url = URL.createObjectURL(new Blob([await response.text()], { type: 'text/plain' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${pod.metadata.name}-${container}.log`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <div className="canopy-gap-top">
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <ContainerSelect containers={containers} value={container} onChange={setContainer} />
          </ToolbarItem>
          <ToolbarItem>
            <SearchInput
              aria-label={t('logs.search')}
              placeholder={t('logs.search')}
              value={search}
              onChange={(_e, v) => setSearch(v)}
              onClear={() => setSearch('')}
              resultsCount={search ? t('logs.matches', { count: shown.length }) : undefined}
            />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <Switch id="logs-follow" label={t('logs.follow')} isChecked={follow} onChange={(_e, v) => setFollow(v)} />
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="secondary" icon={<DownloadIcon />} onClick={() => void download()}>
              {t('logs.download')}
            </Button>
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <span className="canopy-muted" data-testid="logs-state">
              {streaming ? t('logs.streaming') : ''}
            </span>
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {error && <Alert isInline variant="danger" title={error} className="canopy-gap-bottom" />}
      <pre
        className="canopy-logs"
        role="log"
        aria-label={t('logs.label', { container })}
        aria-live="off"
        data-testid="logs"
        tabIndex={0}
      >
        {shown.length ? shown.join('\n') : <span className="canopy-muted">{t('logs.empty')}</span>}
        <div ref={bottom} />
      </pre>
    </div>
  );
}
