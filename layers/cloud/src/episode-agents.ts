import { agentLabelSchema, type AgentLabel } from '../../core/src';
import { episodeKey, parseEpisodePartitionKey, TABLE_LAYOUT } from '../../storage/src';
import { meteringRef, TableItems, uniqueRefs } from './table-items';

/**
 * Who played each episode of a batch run, read by grade-batch for its batch of episodes from
 * the episode items' `agent` attribute (the store's projection of the record's label) with
 * BatchGetItem, only that attribute.
 */
export class EpisodeAgentStore extends TableItems {
  /** The label of each labelled episode, by `<tenant>#<episode>`; unlabelled, missing and damaged ones are absent. */
  async getMany(refs: readonly { tenant: string; episode_id: string }[]): Promise<Map<string, AgentLabel>> {
    const labels = new Map<string, AgentLabel>();
    const keys = uniqueRefs(refs).map((r) => episodeKey(r.tenant, r.episode_id));
    for (const item of await this.batchGetLive(keys, 'episode', ['agent'])) {
      const episode = parseEpisodePartitionKey(String(item[TABLE_LAYOUT.partitionKey.name]));
      const label = agentLabelSchema.safeParse(item.agent);
      if (episode && label.success) labels.set(meteringRef(episode), label.data);
    }
    return labels;
  }
}
