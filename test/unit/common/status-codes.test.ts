import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { STATUS_CODES, statusInfo } from '../../../main/common/status-codes.js';

describe('status codes', () => {
  it('keeps codes inside the fixed decades and unique', () => {
    const seen = new Set<number>();
    for (const s of STATUS_CODES) {
      assert.ok(s.code === 0 || (s.code >= 10 && s.code <= 49), `${s.code} outside 0 and 10..49`);
      assert.ok(!seen.has(s.code), `duplicate ${s.code}`);
      seen.add(s.code);
      assert.ok(s.message.length > 0 && s.remedy.length > 0);
    }
  });

  it('falls back to the decade for an unlisted sub-code', () => {
    const listed = new Set(STATUS_CODES.map((s) => s.code));
    const unlisted = [...Array(40).keys()].map((i) => 10 + i).find((c) => !listed.has(c));
    if (unlisted === undefined) return; // every sub-code is defined: nothing falls back
    assert.equal(statusInfo(unlisted).code, unlisted);
    assert.equal(statusInfo(unlisted).name, statusInfo(Math.floor(unlisted / 10) * 10).name);
  });

  it('is mirrored in docs/status-codes.md', () => {
    const doc = readFileSync(new URL('../../../docs/status-codes.md', import.meta.url), 'utf8');
    for (const s of STATUS_CODES) {
      assert.match(
        doc,
        new RegExp(`\\|\\s*${s.code}\\s*\\|\\s*\`${s.name}\``),
        `docs lack ${s.code} ${s.name}`,
      );
    }
  });
});
