// Package phototest makes the images the photo tests attach: phone-like
// JPEGs of a given size (noisy, so they weigh what a phone's photo weighs),
// with the EXIF a phone writes (GPS, orientation), and PNG and WebP files.
// It is imported by tests only, never by a package that ships.
package phototest
