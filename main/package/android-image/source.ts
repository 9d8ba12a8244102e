/**
 * Where an Android factory/update image's files come from: a zip (read with yauzl: central directory,
 * zip64, entry names validated, sizes validated, each entry streamed and its CRC-32 checked) or an unpacked
 * folder. Only the top level counts, as for `fastboot update`. Nothing is read whole: an entry is opened as
 * a stream each time it is needed (the packer reads an image twice: hash pass, write pass).
 *
 * Google's factory images nest the update zip: `<product>-<build>/image-<product>-<build>.zip` inside an
 * outer zip that also holds the bootloader and radio images and flash-all.sh. When the outer zip stores that
 * inner zip uncompressed (as it does: a zip of zips gains nothing from deflate), the inner zip is read in
 * place through a window on the outer file; when it is compressed, the refusal names the file to extract.
 */ import { promises as fs } from 'node:fs';
import { FlashlineError } from '../../common/errors.js';
import { openFolder } from './folder-source.js';
import type { AndroidImageSource } from './source-contract.js';
import { openZip } from './zip-source.js';

/** Open a zip file or a folder. */
export async function openAndroidImage(path: string): Promise<AndroidImageSource> {
  const st = await fs.stat(path).catch(() => {
    throw new FlashlineError('bad_input', `${path} cannot be read: no such file or folder.`, {
      reason: 'not_found',
    });
  });
  if (st.isDirectory()) return openFolder(path);
  if (!st.isFile())
    throw new FlashlineError('bad_input', `${path} is not a file or folder.`, { reason: 'not_a_file' });
  return openZip(path, st.size);
}
