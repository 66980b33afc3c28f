/** Every controller the all-in-one controller manager runs, in start order. */
import type { ControllerFactory } from './context.js';

export function controllerFactories(): ControllerFactory[] {
  return [];
}
