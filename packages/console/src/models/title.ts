/** The title a model's pages show: its translated plural, or a discovered kind's own name. */
import { translateKey } from '../i18n';
import type { ResourceModel } from './types';

export function modelTitle(model: ResourceModel): string {
  return model.title ? translateKey(model.title) : model.kind;
}
