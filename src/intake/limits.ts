/** What one report may carry, whatever the channel. */
export const MAX_PHOTOS = 5;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
export const MAX_TEXT_CHARS = 5000;
