package dev.mjrelay.api;

import dev.mjrelay.account.Account;
import jakarta.enterprise.context.RequestScoped;

/** The account making the current request, set by {@link AuthFilter}. */
@RequestScoped
public class Caller {

    private Account account;

    void set(Account account) {
        this.account = account;
    }

    Account account() {
        if (account == null) {
            throw new IllegalStateException("no authenticated caller on this request");
        }
        return account;
    }
}
