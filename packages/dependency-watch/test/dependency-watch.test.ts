import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DependencyWatch } from '../src/index.ts';

function watched() {
  const lines: { level: number; msg: string; dependency: string; cause?: { code?: string; message: string } }[] = [];
  const sink = new Writable({
    write: (chunk, _encoding, done) => {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const watch = new DependencyWatch({ logger: pino(sink), service: 'redis', where: 'redis://127.0.0.1:6379' });
  return { watch, lines };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

describe('a dependency watch', () => {
  it('says once that the service is unreachable when connections fail repeatedly, and once that it is back when every one is', () => {
    const { watch, lines } = watched();
    const [a, b] = [watch.connection(), watch.connection()];
    for (let attempt = 0; attempt < 20; attempt++) {
      a.down(refused);
      b.down(refused);
    }
    expect(watch.isDown).toBe(true);
    a.up();
    // b still has no connection: not back yet.
    expect(lines.map((l) => l.msg)).toEqual(['redis is unreachable; waiting for it to come back']);
    b.down(refused);
    b.up();
    a.up();
    expect(watch.isDown).toBe(false);
    expect(lines.map((l) => l.msg)).toEqual(['redis is unreachable; waiting for it to come back', 'redis is back']);
    expect(lines[0]).toMatchObject({ level: 50, dependency: 'redis', cause: { code: 'ECONNREFUSED', message: refused.message } });
    expect(JSON.stringify(lines[0])).not.toContain('stack');
  });

  it('says nothing when connections come and go while the service answers, nor "back" for a connection closed while it was down', () => {
    const { watch, lines } = watched();
    const a = watch.connection();
    a.up();
    a.up();
    expect(lines).toEqual([]);
    a.down(refused);
    a.forget();
    expect(lines.map((l) => l.msg)).toEqual(['redis is unreachable; waiting for it to come back']);
  });

  it('ends an outage whose lost connections were all closed at the next success of any connection', () => {
    const { watch, lines } = watched();
    const [lostOne, other] = [watch.connection(), watch.connection()];
    lostOne.down(refused);
    lostOne.forget();
    expect(watch.isDown).toBe(true);
    other.up();
    expect(watch.isDown).toBe(false);
    expect(lines.map((l) => l.msg)).toEqual(['redis is unreachable; waiting for it to come back', 'redis is back']);
  });
});
