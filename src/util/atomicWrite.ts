// Replaces a file in one step (temp file, fsync, rename), so no reader ever sees half of it.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `data` to `filePath` atomically: a reader sees the old file or the new one, never a mix.
 * The temp file is in the same directory (a rename across file systems is not atomic) and is removed
 * if anything fails.
 */
export async function writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(filePath);
  const tempPath = path.join(
    dir,
    `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(tempPath, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      // Without fsync, a crash after the rename can leave an empty file under the final name.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, filePath);
  } catch (err) {
    await unlink(tempPath).catch(() => undefined);
    const cause = err as NodeJS.ErrnoException;
    throw new Error(
      `cannot write ${filePath} (${cause.code ?? cause.message}): check that ${dir} exists and is writable`,
      { cause },
    );
  }
  await syncDirectory(dir);
}

// Makes the rename itself durable. Best effort: some file systems refuse to fsync a directory.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data is written and renamed; only durability across a power loss is weaker.
  }
}
