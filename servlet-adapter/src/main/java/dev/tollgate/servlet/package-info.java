/**
 * The servlet adapter: {@link dev.tollgate.servlet.TollgateFilter} meters requests of a plain
 * Servlet 6 web app configured in {@code web.xml}, {@link dev.tollgate.servlet.TollgateAdminServlet}
 * serves the admin and self-service API, and {@link dev.tollgate.servlet.SubjectResolver} lets
 * the app decide who pays. Decisions, headers and problem bodies come from
 * {@code dev.tollgate.core.edge}.
 */
package dev.tollgate.servlet;
