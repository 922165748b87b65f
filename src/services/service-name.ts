/**
 * Service names come from apps (`config --get-services`), so they are checked
 * before they become a file name (`<name>.pid`) or a systemctl argument (a
 * leading `-` would be read as an option).
 */
import { AppError } from '../errors.js';

const VALID = /^[A-Za-z0-9_:][A-Za-z0-9_:.@\\-]*$/;

export function assertServiceName(name: string): void {
  if (!VALID.test(name) || name.length > 255) {
    throw new AppError('SERVICE_FAILED', `invalid service name ${JSON.stringify(name)}: letters, digits and "_:.@-\\" only, not starting with "-" or "."`);
  }
}
