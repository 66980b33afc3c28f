/**
 * ImageLocality: nodes that already hold the pod's images score higher, by the images' sizes
 * scaled by how widely each image is spread (so one node with a popular image does not attract
 * every pod), between 23 MB and 1000 MB per container.
 */
import type { NodeInfo } from '../cache.js';
import { MAX_NODE_SCORE, type CycleState, type ScorePlugin } from '../framework.js';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** normalizedImageName: an image without a tag means `:latest`. */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

export class ImageLocality implements ScorePlugin {
  readonly name = 'ImageLocality';
  constructor(readonly weight = 1) {}

  preScore(state: CycleState): boolean {
    const spec = state.pod.spec ?? {};
    const images = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => normalizedImageName((c as { image?: string }).image ?? ''));
    state.write(this.name, images);
    return true;
  }

  score(state: CycleState, node: NodeInfo): number {
    const images = state.read<string[]>(this.name) ?? [];
    const totalNodes = state.cache.nodeCount;
    let sum = 0;
    for (const image of images) {
      const size = node.images.get(image);
      if (size === undefined) continue;
      sum += Math.trunc(size * ((state.cache.imageNodes.get(image) ?? 0) / totalNodes));
    }
    const max = MAX_CONTAINER_THRESHOLD * Math.max(1, images.length);
    const clamped = Math.min(max, Math.max(MIN_THRESHOLD, sum));
    return Math.trunc((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
  }
}
