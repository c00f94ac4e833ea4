/**
 * Where the bridge's templates, catalogues and static files are, wherever it is started from.
 */
import { fileURLToPath } from 'node:url';

export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));
