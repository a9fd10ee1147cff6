package dev.tollgate.servlet;

import dev.tollgate.core.edge.Admission;
import dev.tollgate.core.edge.QuotaGate;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Charges one admitted request once, from whichever completion path comes first. Thread-safe. */
final class Settlement implements AsyncListener {
    private static final Logger LOG = LoggerFactory.getLogger(Settlement.class);

    private final QuotaGate gate;
    private final Admission admission;
    private final HttpServletResponse response;
    volatile boolean async;

    Settlement(QuotaGate gate, Admission admission, HttpServletResponse response) {
        this.gate = gate;
        this.admission = admission;
        this.response = response;
    }

    void watch(AsyncContext context) {
        async = true;
        context.addListener(this);
    }

    void settle(int status) {
        try {
            gate.settle(admission, status, name -> {
                Collection<String> values = response.getHeaders(name);
                return values == null ? List.of() : new ArrayList<>(values);
            });
        } catch (RuntimeException e) {
            // The response is done: accounting trouble must not turn it into an error, nor
            // escape from an AsyncListener; it is logged for follow-up instead.
            LOG.error("Charging a completed request failed: subject={} status={}", admission.subject(), status, e);
        }
    }

    @Override
    public void onComplete(AsyncEvent event) {
        settle(response.getStatus());
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        settle(failedStatus());
    }

    @Override
    public void onError(AsyncEvent event) {
        settle(failedStatus());
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // A new async cycle drops listeners that do not register again.
        event.getAsyncContext().addListener(this);
    }

    /** The status of a timed-out or failed request: what the app set, else the container's 500. */
    private int failedStatus() {
        int status = response.getStatus();
        return response.isCommitted() || status >= 400 ? status : 500;
    }

    /** Hooks {@link #startAsync} so that the settlement listens from the start of async processing. */
    static final class AsyncAware extends HttpServletRequestWrapper {
        private final Settlement settlement;

        AsyncAware(HttpServletRequest request, Settlement settlement) {
            super(request);
            this.settlement = settlement;
        }

        @Override
        public AsyncContext startAsync() {
            AsyncContext c = super.startAsync();
            settlement.watch(c);
            return c;
        }

        @Override
        public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
            AsyncContext c = super.startAsync(request, response);
            settlement.watch(c);
            return c;
        }
    }
}
