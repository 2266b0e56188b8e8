import { formulaTrainerFactory } from '../../../layers/testing/src';
import type { EpisodeRecord } from '../../../layers/core/src';
import { InProcessEnvironment, llmPolicy, playEpisode, type EpisodeSession, type LlmPolicyOptions } from '../../../layers/agent/src';
import { FakeOpenAiServer, type ChatRequest, type ScriptedReply } from './fake-openai-server';

/**
 * Plays one real episode (formula trainer, in process) with the llm policy against a scripted
 * chat endpoint on loopback; the requests the endpoint received, the policy's notes and the
 * episode's stored record come back.
 */
export async function playLlmEpisode(
  script: ScriptedReply[] | ((request: ChatRequest, index: number) => ScriptedReply),
  options: Partial<LlmPolicyOptions> = {},
  taskId = 'medium_fashion',
) {
  const fake = new FakeOpenAiServer(script);
  const baseURL = await fake.start();
  const notes: string[] = [];
  let session: EpisodeSession | undefined;
  try {
    const result = await playEpisode({
      environment: new InProcessEnvironment(formulaTrainerFactory),
      policy: llmPolicy({ model: 'fake-model', baseURL, apiKey: 'sk-test', maxRetries: 0, ...options }),
      taskId,
      log: (m) => notes.push(m),
      onStart: (s) => (session = s),
    });
    const record: EpisodeRecord = await session!.readRecord();
    return { result, record, requests: fake.requests, notes };
  } finally {
    await fake.stop();
  }
}
