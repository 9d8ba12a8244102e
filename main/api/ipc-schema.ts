/** Runtime schema of what a renderer may send over IPC (see ./ipc-protocol.ts). */
import { z } from 'zod';

export const ipcClientMessage = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('request'),
      id: z.number().int().nonnegative(),
      type: z.enum(['query', 'mutation', 'subscription']),
      path: z.string().min(1).max(200),
      input: z.unknown(),
    })
    .strict(),
  z.object({ kind: z.literal('stop'), id: z.number().int().nonnegative() }).strict(),
]);
export type IpcClientMessage = z.infer<typeof ipcClientMessage>;
