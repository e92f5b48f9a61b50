/**
 * Writes usage rows (`policy --usage` input) for one workload with many distinct S3 object keys,
 * streaming, as CSV: the memory check of docs/memory.md ("Policies and usage files").
 *
 *   node --import tsx bench/gen-usage.ts --keys 1000000 --out bench/out/usage-1m.csv [--mixed]
 *   node --import tsx bench/gen-usage.ts --keys 300000 --xray bench/out/s3-keys/
 *
 * With `--xray DIR` it writes the same keys as X-Ray segment documents instead (one Lambda
 * segment per line with 10 `GetObject` subsegments, 20,000 keys a file), to ingest into a
 * database for `policy`, `policy --json` and `report`.
 *
 * Every key is under `bucket/data/<day>/<n>.bin` and read with `s3:GetObject`; with `--mixed`
 * the keys spread over 3 buckets, 7 top-level prefixes and 3 action sets (GetObject;
 * GetObject+PutObject; DeleteObject), and a few DynamoDB rows are added, so that the prefix
 * computation meets several groups (the documents before and after a change can be compared).
 */
import fs from 'node:fs';
import { once } from 'node:events';

const PRINCIPAL = 'arn:aws:lambda:eu-west-1:123456789012:function:thumbnails';

async function main(argv: string[]): Promise<void> {
  let keys = 1000;
  let out = '';
  let mixed = false;
  let xray = '';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--keys') keys = Number(argv[++i]);
    else if (argv[i] === '--out') out = argv[++i] ?? '';
    else if (argv[i] === '--mixed') mixed = true;
    else if (argv[i] === '--xray') xray = argv[++i] ?? '';
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (xray) return writeXray(keys, xray);
  if (!out || !Number.isInteger(keys) || keys < 1) throw new Error('usage: --keys N --out FILE [--mixed]');
  const file = fs.createWriteStream(out);
  const write = async (line: string): Promise<void> => {
    if (!file.write(line)) await once(file, 'drain');
  };
  await write('principal,kind,name,action,resource,calls,denied,first_seen,last_seen\n');
  const t0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
  for (let n = 0; n < keys; n++) {
    const day = n % 30;
    const first = new Date((t0 + day * 86_400 + (n % 86_400)) * 1000).toISOString();
    const row = (action: string, resource: string, calls: number, denied = false): string =>
      `${PRINCIPAL},lambda,thumbnails,${action},${resource},${calls},${denied},${first},${first}\n`;
    if (!mixed) {
      await write(row('s3:GetObject', `arn:aws:s3:::bucket/data/${day}/${n}.bin`, 1 + (n % 3)));
      continue;
    }
    const bucket = `bucket-${n % 3}`;
    const top = ['in', 'out', 'tmp', 'cache', 'logs', 'img', 'raw'][n % 7] as string;
    const key = `arn:aws:s3:::${bucket}/${top}/${n % 5 === 0 ? `deep/${day}/` : ''}${n}.bin`;
    const set = n % 3;
    if (set === 0 || set === 1) await write(row('s3:GetObject', key, 1 + (n % 4)));
    if (set === 1) await write(row('s3:PutObject', key, 1, n % 11 === 0));
    if (set === 2) await write(row('s3:DeleteObject', key, 2));
    if (n % 1000 === 0)
      await write(row('dynamodb:GetItem', `arn:aws:dynamodb:eu-west-1:123456789012:table/t${n / 1000}`, 5));
  }
  file.end();
  await once(file, 'finish');
}

/** `keys` distinct S3 keys as X-Ray segment documents, 20,000 keys a file. */
async function writeXray(keys: number, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);
  const t0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
  const perFile = 20_000;
  for (let start = 0; start < keys; start += perFile) {
    const file = fs.createWriteStream(`${dir}/part-${hex(start / perFile, 4)}.jsonl`);
    for (let n = start; n < Math.min(keys, start + perFile); n += 10) {
      const time = t0 + (n % (30 * 86_400));
      const subsegments = [];
      for (let k = n; k < Math.min(keys, n + 10); k++)
        subsegments.push({
          id: `5${hex(k, 15)}`,
          name: 'S3',
          start_time: time,
          end_time: time + 0.01,
          namespace: 'aws',
          http: { response: { status: 200 } },
          aws: {
            operation: 'GetObject',
            region: 'eu-west-1',
            bucket_name: 'bucket',
            key: `data/${k % 30}/${k}.bin`,
          },
        });
      const doc = {
        id: `1${hex(n, 15)}`,
        name: 'thumbnails',
        trace_id: `1-${hex(time, 8)}-${hex(n, 24)}`,
        start_time: time,
        end_time: time + 0.2,
        origin: 'AWS::Lambda::Function',
        aws: {
          account_id: '123456789012',
          function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:thumbnails',
        },
        subsegments,
      };
      if (!file.write(`${JSON.stringify(doc)}\n`)) await once(file, 'drain');
    }
    file.end();
    await once(file, 'finish');
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
