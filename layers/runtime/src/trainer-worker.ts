import { DatasetUnavailableError, type Trainer, type TrainerFactory } from '../../core/src';
import { WORKER_METHODS, type WorkerError, type WorkerMessage, type WorkerRequest } from './trainer-worker-protocol';

/**
 * Serves trainers of `factory` to the parent process over `port` (a child process's IPC
 * channel): each request runs as it arrives, replies carry the result or the error.
 */
export function serveTrainers(factory: TrainerFactory, port: { send(message: WorkerMessage): void; on(event: 'message', listener: (m: WorkerRequest) => void): void }): void {
  const trainers = new Map<number, Trainer>();
  let nextId = 1;
  const reply = (id: number, run: () => Promise<unknown>) => {
    run().then(
      (value) => port.send({ kind: 'reply', id, ok: true, value }),
      (e: unknown) => port.send({ kind: 'reply', id, ok: false, error: toWorkerError(e) }),
    );
  };
  const adopt = (trainer: Trainer) => {
    const id = nextId++;
    trainers.set(id, trainer);
    return id;
  };
  port.on('message', (request) => {
    switch (request.kind) {
      case 'create':
        return reply(request.id, async () => adopt(await factory.create(request.spec)));
      case 'restore':
        return reply(request.id, async () => adopt(await factory.restore(request.spec, request.checkpoint)));
      case 'call':
        return reply(request.id, async () => {
          const trainer = trainers.get(request.trainer);
          if (!trainer) throw new Error(`trainer ${request.trainer} does not exist in this worker (disposed?)`);
          if (!WORKER_METHODS.includes(request.method)) throw new Error(`unknown trainer method ${request.method}`);
          const method = trainer[request.method] as (...args: unknown[]) => Promise<unknown>;
          return method.apply(trainer, request.args);
        });
      case 'dispose':
        trainers.get(request.trainer)?.dispose();
        trainers.delete(request.trainer);
        return undefined;
    }
  });
}

export function toWorkerError(e: unknown): WorkerError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { code, file } = e as { code?: unknown; file?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof file === 'string' ? { file } : {}),
    ...(e instanceof DatasetUnavailableError ? { detail: { ...e.detail } } : {}),
  };
}
