import { readdirSync, readFileSync } from 'node:fs';

/**
 * Linux reports CPU times in clock ticks of USER_HZ, which is 100 on every architecture
 * Node runs on (Node has no sysconf(_SC_CLK_TCK)).
 */
const TICKS_PER_SECOND = 100;

/** utime + stime + cutime + cstime of one process (its reaped children included), in seconds. */
function processCpuSeconds(pid: number | 'self'): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / TICKS_PER_SECOND;
}

function childrenOf(pid: number | 'self'): number[] {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

/**
 * CPU seconds used so far by this process and its live child processes (trainer workers)
 * and their children: what a pass of episodes cost in CPU, whatever share of the machine
 * it got. Null where /proc does not say (not Linux).
 */
export function processTreeCpuSeconds(): number | null {
  try {
    const tree = (pid: number | 'self'): number => processCpuSeconds(pid) + childrenOf(pid).reduce((sum, child) => sum + safely(() => tree(child)), 0);
    return Math.round(tree('self') * 100) / 100;
  } catch {
    return null;
  }
}

/** A child that exits while it is read counts nothing (its time moves to our cutime once reaped). */
function safely(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}
