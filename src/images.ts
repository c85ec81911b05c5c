import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, resolve } from 'node:path';
import { placeOf, type PathBounds } from './cwd.js';
import { ToolError } from './errors.js';
import type { ImageInput } from './shapes/requests.js';

// An image a caller passes with a prompt (its shape lives in src/shapes).
export type { ImageInput };

// Image types the Messages API takes, and the cap per image (the API's own limit is about 5 MB).
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

// Image content blocks for the stream-json user message (a path inside the roots, never in the state dir); every
// problem is a ToolError naming the image.
export async function imageBlocks(
  images: ImageInput[],
  bounds: PathBounds,
  cwd: string,
): Promise<Array<Record<string, unknown>>> {
  const blocks: Array<Record<string, unknown>> = [];
  for (const [i, image] of images.entries()) {
    const field = `images[${i}]`;
    let mediaType: string;
    let data: string;
    if ('path' in image) {
      const full = isAbsolute(image.path) ? image.path : resolve(cwd, image.path);
      const place = placeOf(full, bounds, cwd);
      if (place === 'state')
        throw new ToolError(`${field}.path: ${image.path} lies in the server's state dir; pass an image of yours`);
      if (place === 'outside')
        throw new ToolError(
          `${field}.path: ${image.path} is outside the allowed roots; pass an image inside them, or its data`,
        );
      mediaType = BY_EXTENSION[extname(full).toLowerCase()] ?? '';
      if (!mediaType) throw new ToolError(`${field}.path: ${image.path} is not a .png, .jpg, .gif or .webp file`);
      const size = await stat(full).then(
        (s) => (s.isFile() ? s.size : -1),
        () => -1,
      );
      if (size < 0) throw new ToolError(`${field}.path: ${image.path} does not exist or is not a file`);
      if (size > MAX_IMAGE_BYTES)
        throw new ToolError(`${field}.path: ${image.path} is ${size} bytes, over the cap of ${MAX_IMAGE_BYTES}`);
      data = (await readFile(full)).toString('base64');
    } else {
      mediaType = image.mimeType;
      data = image.data;
      if (Buffer.byteLength(data, 'base64') > MAX_IMAGE_BYTES)
        throw new ToolError(`${field}.data: over the cap of ${MAX_IMAGE_BYTES} bytes`);
    }
    blocks.push({ type: 'image', source: { type: 'base64', media_type: mediaType, data } });
  }
  return blocks;
}
