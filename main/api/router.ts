/**
 * The one service API: commands, queries and event streams, served identically over Electron IPC
 * (desktop) and a token-protected WebSocket on loopback (station). Every input is validated with zod.
 * The renderer imports only the `AppRouter` type from here.
 */
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import { procedure, router } from './trpc.js';

const deviceId = z.string().min(1).max(200);

export const appRouter = router({
  app: router({
    info: procedure.query(({ ctx }) => ({
      product: 'Flashline',
      version: ctx.version,
      mode: ctx.mode,
      demo: ctx.demo,
    })),
  }),
  devices: router({
    list: procedure.query(({ ctx }) => ctx.devices.list()),
    get: procedure.input(z.object({ id: deviceId }).strict()).query(({ ctx, input }) => {
      const device = ctx.devices.get(input.id);
      if (!device) {
        throw new FlashlineError(
          'not_found',
          `No device with id ${input.id} is connected. Run 'flashline devices' to list them.`,
        );
      }
      return device;
    }),
    /** added/changed/removed events, live. */
    events: procedure.subscription(async function* ({ ctx, signal }) {
      yield* ctx.devices.events(signal);
    }),
  }),
});

export type AppRouter = typeof appRouter;
