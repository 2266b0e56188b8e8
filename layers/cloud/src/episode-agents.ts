import { agentLabelSchema, type AgentLabel } from '../../core/src';
import { episodeKey, parseEpisodePartitionKey, TABLE_LAYOUT } from '../../storage/src';
import { meteringRef, TableItems, uniqueRefs } from './table-items';

/**
 * Who played each episode of a batch run, read by write-report from the episode items' `agent`
 * attribute (the store's projection of the record's label) with BatchGetItem, only that
 * attribute. Not carried in the grade answers: the Map state's results are bounded by Step
 * Functions' 256 KB, and a label is chosen by the tenant (up to ~260 characters).
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
