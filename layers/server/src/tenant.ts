import type { FastifyRequest } from 'fastify';
import type { TenantId } from '../../episodes/src';

/**
 * Maps a request to the tenant that owns its episodes. The local server reads a header;
 * the cloud can map API keys to tenants. Throw a TenantError to refuse the request.
 */
export type TenantResolver = (request: FastifyRequest) => TenantId | Promise<TenantId>;

/** A request whose tenant cannot be established; statusCode 400 (malformed), 401 or 403. */
export class TenantError extends Error {
  override readonly name = 'TenantError';
  constructor(
    message: string,
    readonly statusCode: 400 | 401 | 403 = 400,
  ) {
    super(message);
  }
}

export const TENANT_HEADER = 'x-tenant-id';
export const DEFAULT_TENANT = 'local';
/** A tenant the local server accepts (header or dashboard query): letters, digits, `._:-`, at most 64 characters. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The `x-tenant-id` header (letters, digits, `._:-`, at most 64 characters), else `local`. */
export const headerTenantResolver: TenantResolver = (request) => {
  const raw = request.headers[TENANT_HEADER];
  if (raw === undefined) return DEFAULT_TENANT;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!TENANT_PATTERN.test(value)) {
    throw new TenantError(
      `${TENANT_HEADER} must be 1 to 64 characters of letters, digits and . _ : - (starting with a letter or digit).`,
    );
  }
  return value;
};
