/**
 * A container's file system as the shell sees it: a small base image layout (/bin, /etc with the
 * kubelet-managed hosts file, resolv.conf and hostname, …) with the pod's volumes mounted at
 * their mount paths. File contents may be lazy (a projected ServiceAccount token is requested
 * only when read). Writes go to an in-memory layer private to the exec session, except under
 * read-only mounts.
 */

export type FileContent = string | (() => Promise<string>);

export interface FsNode {
  type: 'dir' | 'file';
  children?: Map<string, FsNode>;
  content?: FileContent;
  /** Under a read-only mount (ConfigMap, Secret, downward API and projected volumes always are). */
  readOnly?: boolean;
  /** Hidden from `ls` without -a (the `..data` links of atomic-writer volumes). */
  hidden?: boolean;
}

export class ContainerFileSystem {
  readonly root: FsNode = { type: 'dir', children: new Map() };

  /** Normalises `path` against `cwd`: `.`, `..` and repeated slashes. */
  static resolvePath(cwd: string, path: string): string {
    const parts = (path.startsWith('/') ? path : `${cwd}/${path}`).split('/');
    const out: string[] = [];
    for (const part of parts) {
      if (!part || part === '.') continue;
      if (part === '..') out.pop();
      else out.push(part);
    }
    return `/${out.join('/')}`;
  }

  lookup(path: string): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      if (!node || node.type !== 'dir') return undefined;
      node = node.children!.get(part);
    }
    return node;
  }

  mkdirp(path: string, readOnly = false): FsNode {
    let node = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      let next = node.children!.get(part);
      if (!next || next.type !== 'dir') {
        next = { type: 'dir', children: new Map(), readOnly };
        node.children!.set(part, next);
      }
      node = next;
    }
    return node;
  }

  /** Creates (or replaces) a file, creating its parent directories. */
  addFile(path: string, content: FileContent, readOnly = false, hidden = false): void {
    const slash = path.lastIndexOf('/');
    const dir = this.mkdirp(path.slice(0, slash), readOnly);
    dir.children!.set(path.slice(slash + 1), { type: 'file', content, readOnly, hidden });
  }

  /** Mounts an empty directory (replacing whatever the image had there). */
  mountDir(path: string, readOnly: boolean): FsNode {
    const slash = path.lastIndexOf('/');
    const parent = this.mkdirp(path.slice(0, slash));
    const dir: FsNode = { type: 'dir', children: new Map(), readOnly };
    parent.children!.set(path.slice(slash + 1), dir);
    return dir;
  }

  async read(node: FsNode): Promise<string> {
    const content = node.content ?? '';
    return typeof content === 'string' ? content : await content();
  }

  /** Writes a file for a shell redirection; answers an error message or undefined. */
  write(path: string, text: string, append: boolean): string | undefined {
    const slash = path.lastIndexOf('/');
    const parent = this.lookup(path.slice(0, slash) || '/');
    if (!parent || parent.type !== 'dir') return `can't create ${path}: nonexistent directory`;
    if (parent.readOnly) return `can't create ${path}: Read-only file system`;
    const name = path.slice(slash + 1);
    const existing = parent.children!.get(name);
    if (existing?.type === 'dir') return `can't create ${path}: Is a directory`;
    if (existing?.readOnly) return `can't create ${path}: Read-only file system`;
    const before = append && existing && typeof existing.content === 'string' ? existing.content : '';
    parent.children!.set(name, { type: 'file', content: before + text });
    return undefined;
  }
}
