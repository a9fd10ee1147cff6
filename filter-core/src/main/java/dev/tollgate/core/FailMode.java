package dev.tollgate.core;

/**
 * What a check answers when the store cannot be read and nothing is cached for the key.
 * {@code OPEN} (the default) lets the request through and counts it, because an API that
 * refuses every caller while its quota database restarts hurts more than a few unchecked
 * requests; alert on the {@code failOpen} stat. {@code CLOSED} refuses instead.
 */
public enum FailMode {
    OPEN, CLOSED
}
