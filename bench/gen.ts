/**
 * Command line of the dump generator (test/support/generator.ts):
 *
 *   node --import tsx bench/gen.ts --size 256MB --out bench/out/dump-256.json
 *     [--seed 1] [--layout concatenated|single] [--gzip]
 *     [--workloads 1000] [--accounts 3] [--regions us-east-1,eu-west-1] [--days 30]
 */
import { parseSize, writeDump, type GenOptions } from '../test/support/generator.js';

async function main(argv: string[]): Promise<void> {
  const opts: Partial<GenOptions> = {};
  let out: string | undefined;
  let gzip = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--size':
        opts.sizeBytes = parseSize(val());
        break;
      case '--out':
        out = val();
        break;
      case '--seed':
        opts.seed = Number(val());
        break;
      case '--layout': {
        const l = val();
        if (l !== 'concatenated' && l !== 'single') throw new Error('--layout is concatenated or single');
        opts.layout = l;
        break;
      }
      case '--gzip':
        gzip = true;
        break;
      case '--workloads':
        opts.workloads = Number(val());
        break;
      case '--accounts':
        opts.accounts = Number(val());
        break;
      case '--regions':
        opts.regions = val().split(',');
        break;
      case '--days':
        opts.days = Number(val());
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  if (!out)
    throw new Error(
      'usage: gen.ts --size 256MB --out bench/out/dump.json [--seed 1] [--layout concatenated|single] [--gzip]',
    );
  const meta = await writeDump(opts, out, gzip);
  const mb = meta.bytes / 1024 / 1024;
  console.log(
    `${out}: ${mb.toFixed(1)} MB (${meta.fileBytes} bytes on disk), ${meta.documents} documents, ${meta.traces} traces, ` +
      `${meta.segments} segments (${meta.inferredSegments} inferred), ${meta.calls} AWS calls, ${meta.workloads} workloads; ` +
      `${meta.generationSeconds.toFixed(1)} s (${(mb / meta.generationSeconds).toFixed(1)} MB/s)`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
