/** Open a fastboot client for a device id (`tcp:HOST:PORT`, `serial:PATH`, `usb:SERIAL`). */
import { type OpenLinkOptions, openLink } from '../../transport/index.js';
import { FastbootClient, type FastbootClientOptions } from './client.js';

export async function openFastboot(
  id: string,
  opts: OpenLinkOptions & FastbootClientOptions = {},
): Promise<FastbootClient> {
  return new FastbootClient(await openLink(id, opts), opts);
}
