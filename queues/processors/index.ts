import type { JobContext, JobName, JobPayloads } from '../jobs.js';
import { createDeadlineProcessor } from './deadline.processor.js';
import { createDispatchProcessor } from './dispatch.processor.js';
import { createIntakeProcessor } from './intake.processor.js';
import { createNotifyProcessor } from './notify.processor.js';
import type { ProcessorDeps } from './processor-deps.js';
import { createTelegramPhotosProcessor, createTelegramPostProcessor } from './telegram.processor.js';

export type Processor<K extends JobName> = (payload: JobPayloads[K], ctx: JobContext) => Promise<string>;

/** Every job name has exactly one processor, or this does not compile. */
export type Processors = { [K in JobName]: Processor<K> };

export function createProcessors(deps: ProcessorDeps): Processors {
  return {
    intake: createIntakeProcessor(deps),
    dispatch: createDispatchProcessor(deps),
    notify: createNotifyProcessor(deps, deps.telegram),
    deadline: createDeadlineProcessor(deps),
    telegram_post: createTelegramPostProcessor(deps),
    telegram_photos: createTelegramPhotosProcessor(deps),
  };
}
