/**
 * Station mode: send a chosen `.flp` to the station's upload endpoint (token in the Authorization
 * header). The browser streams the File from disk; the station caps its size and stores it.
 */
export const MAX_UPLOAD_NAME = 255;

/** Checks the page can make before sending anything; null when the file looks acceptable. */
export function uploadProblem(file: { name: string; size: number }): string | null {
  if (!/\.flp$/i.test(file.name)) return `'${file.name}' is not a Flashline package: choose a .flp file.`;
  if (file.name.length > MAX_UPLOAD_NAME) return 'The file name is too long; rename the file and retry.';
  if (file.size === 0) return `'${file.name}' is empty; choose the package file again.`;
  return null;
}

export async function uploadToStation(
  href: string,
  token: string,
  file: File,
  signal?: AbortSignal,
): Promise<string> {
  const problem = uploadProblem(file);
  if (problem) throw new Error(problem);
  const url = new URL('/upload', href);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/octet-stream',
      'X-Flashline-Filename': encodeURIComponent(file.name),
    },
    body: file,
    ...(signal ? { signal } : {}),
  });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (!res.ok || typeof record.path !== 'string') {
    const message =
      typeof record.message === 'string' ? record.message : `The station answered ${res.status}.`;
    throw new Error(message);
  }
  return record.path;
}
