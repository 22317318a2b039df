import { which } from './process.ts';
import type { Context } from './service.ts';
import { aptInstall } from './services/apt.ts';

/**
 * Command-line tools the benchmarks run beside the stack, installed from Debian on first use the
 * way the services' own packages are: a tool the machine already has is used as it is.
 */
const TOOLS = {
  /** The closed-loop HTTP load generator: a C program, so it does not compete as a Node process. */
  wrk: 'wrk',
} as const;

export type Tool = keyof typeof TOOLS;

/** The path of the tool's executable, installing its Debian package when it is missing. */
export async function ensureTool(ctx: Context, tool: Tool): Promise<string> {
  const found = which(tool);
  if (found) return found;
  await aptInstall(ctx, [TOOLS[tool]]);
  const installed = which(tool);
  if (!installed) throw new Error(`apt-get installed ${TOOLS[tool]}, but ${tool} is not on PATH`);
  return installed;
}
