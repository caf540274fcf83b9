import os from 'node:os';
import pino from 'pino';
import { Agent } from '../agent/agent.js';
import { AGENT_USAGE, AgentOptionsError, parseAgentOptions } from '../agent/agent-options.js';
import { createExecutors } from '../agent/executor-set.js';
import { resolveResources } from '../agent/machine-resources.js';

/** `taskhub worker`: runs the agent until SIGTERM or SIGINT, then exits 0 once it has handed everything back. */
export async function runWorker(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(AGENT_USAGE);
    return 0;
  }
  let options;
  try {
    options = parseAgentOptions(argv, process.env, os.hostname(), os.tmpdir());
  } catch (error) {
    if (!(error instanceof AgentOptionsError)) throw error;
    console.error(`${error.message}\n\n${AGENT_USAGE}`);
    return 2;
  }
  const logger = pino({ level: process.env.TASKHUB_LOG_LEVEL || 'info', base: { component: 'worker' } });
  const agent = new Agent(options, await createExecutors(options), await resolveResources(options), logger);
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping: finishing or handing back running tasks');
    agent.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await agent.start();
  return -1;
}
