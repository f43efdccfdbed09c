/**
 * A process and its descendants, from /proc/<pid>/task/<tid>/children (proc(5)). The
 * gateway runs as `deno task` with `deno run` below it, so both stopping it and
 * measuring its CPU time must reach the whole tree.
 *
 * @module
 */

/** The pids of `pid`'s children, from every thread's children list. */
function children(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      for (const word of text.trim().split(/\s+/)) if (word) found.push(Number(word));
    }
  } catch (err) {
    // The process (or one thread) ended while being read: it has no children left.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found;
}

/** `pid` followed by all its descendants now alive (parents before children). */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.shift()!;
    tree.push(next);
    pending.push(...children(next));
  }
  return tree;
}
