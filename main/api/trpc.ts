/**
 * tRPC instance for the one service API. Errors cross the API as data: every error's shape carries
 * `data.flashline = {code, message, detail}` so clients never parse stack traces or free text.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { type ErrorData, FlashlineError } from '../common/errors.js';
import type { ServiceContext } from './service.js';

function describeZod(err: ZodError): string {
  return err.issues
    .map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`)
    .slice(0, 5)
    .join('; ');
}

export function errorToData(error: TRPCError): ErrorData {
  const cause = error.cause;
  if (cause instanceof ZodError) {
    return {
      code: 'bad_input',
      message: `Invalid request: ${describeZod(cause)}. Check the values sent and try again.`,
      detail: cause.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    };
  }
  if (cause instanceof FlashlineError) return cause.toData();
  if (error.code === 'NOT_FOUND') return { code: 'not_found', message: error.message };
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    return { code: 'internal', message: cause?.message ?? error.message };
  }
  return { code: error.code.toLowerCase(), message: error.message };
}

const t = initTRPC.context<ServiceContext>().create({
  errorFormatter({ shape, error }) {
    const flashline = errorToData(error);
    // Never send a stack across the boundary.
    const { stack: _stack, ...data } = shape.data;
    return { ...shape, message: flashline.message, data: { ...data, flashline } };
  },
});

export const router = t.router;
export const procedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
export { TRPCError };
