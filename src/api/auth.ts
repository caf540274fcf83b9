import { createHash, timingSafeEqual } from 'node:crypto';
import { TaskhubError } from '../domain/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks `Authorization: Bearer <token>` in constant time (both sides hashed first so
 * their lengths match). An empty expected token means authentication is off.
 */
export function bearerTokenCheck(expected: string): (authorization: string | undefined) => void {
  if (expected === '') return () => {};
  const expectedDigest = digest(expected);
  return (authorization) => {
    const match = /^Bearer (.+)$/.exec(authorization ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expectedDigest)) {
      throw new TaskhubError('UNAUTHORIZED', 'missing or wrong bearer token');
    }
  };
}
