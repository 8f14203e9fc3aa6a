// Package photo turns what a volunteer attaches to a field report into what
// Hamlet keeps and carries: the image is recognised by its content (JPEG,
// PNG or WebP, never by a file name), its dimensions are read from its
// header before anything is decoded (a 30,000 × 30,000 image of a few
// kilobytes would take gigabytes to decode), it is turned upright, scaled
// to a longest side and re-encoded as JPEG, which leaves every EXIF tag
// behind. The photo's GPS position is read from its EXIF before that, so
// the volunteer can be offered it as the report's place.
//
// The agent (attach) and the server (checking an upload, thumbnails) share
// it. It is pure: bytes in, bytes out; it never imports a file, network,
// database or process package and never reads the clock.
package photo
