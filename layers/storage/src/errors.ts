import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Failures of the storage adapters. The episode service maps them to its own errors;
 * anything else (network, permissions) propagates unchanged.
 */
export type StorageErrorCode =
  /** A conditional write lost: the item is not at the expected version (or already exists). */
  | 'conflict'
  /** The item to write is above the adapter's safety limit; nothing was written. */
  | 'item_too_large'
  /** A stored object does not match the checksum its pointer names, or is missing. */
  | 'integrity'
  /** A value that would become part of a key is malformed. */
  | 'invalid_key'
  /** A listing cursor that this store did not hand out (or one for another tenant). */
  | 'invalid_cursor'
  /** A stored item whose content no write of ours produces (its record fails the core's schema). */
  | 'invalid_item';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}

/** Whether a DynamoDB write failed on its condition (the SDK's class, or its name when another copy of the SDK threw it). */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
