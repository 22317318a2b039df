import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { run, which } from './process.ts';
import type { Context } from './service.ts';
import { aptInstall } from './services/apt.ts';

type Source = { apt: string } | { crate: string; version: string };

/**
 * Command-line tools the benchmarks run beside the stack, installed on first use the way the
 * services' own packages are (a tool the machine already has is used as it is): from Debian, or
 * built from crates.io with cargo into the data folder when Debian has no package of it.
 */
const TOOLS = {
  /** The closed-loop HTTP load generator: a C program, so it does not compete as a Node process. */
  wrk: { apt: 'wrk' },
  /**
   * The open-loop HTTP load generator (a fixed request rate, latency corrected for coordinated
   * omission): a Rust program, for the same reason. Built once, a few minutes on two cores.
   */
  oha: { crate: 'oha', version: '1.16.0' },
} satisfies Record<string, Source>;

export type Tool = keyof typeof TOOLS;

/** The path of the tool's executable, installing it when it is missing. */
export async function ensureTool(ctx: Context, tool: Tool): Promise<string> {
  const source: Source = TOOLS[tool];
  const root = join(ctx.dataDir, 'tools');
  const built = join(root, 'bin', tool);
  const found = which(tool) ?? (existsSync(built) ? built : undefined);
  if (found) return found;
  if ('apt' in source) {
    await aptInstall(ctx, [source.apt]);
  } else {
    const cargo = which('cargo') ?? join(homedir(), '.cargo', 'bin', 'cargo');
    if (!existsSync(cargo)) throw new Error(`${tool} is built with cargo, and cargo is not installed`);
    ctx.log(`building ${source.crate} ${source.version} from crates.io with cargo (once, into ${root})`);
    const result = await run(cargo, [
      'install',
      '--locked',
      '--root',
      root,
      '--version',
      source.version,
      source.crate,
    ]);
    if (result.code !== 0)
      throw new Error(
        `cargo install ${source.crate} failed (exit ${result.code}):\n${result.output.slice(-2000)}`,
      );
  }
  const installed = which(tool) ?? (existsSync(built) ? built : undefined);
  if (!installed) throw new Error(`installed ${tool}, but cannot find its executable`);
  return installed;
}
