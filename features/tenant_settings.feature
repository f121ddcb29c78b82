Feature: The organization's own settings decide what is invoiced and when refused invoices are tried again
  As an organization that switches the integration on
  I want invoices to wait for our bank account, to start from the day we choose, and to be sent again once we fix
  what Procountor refused
  so that no invoice goes out without a way to pay it, old work already invoiced by hand is never invoiced again,
  and nothing stays refused after its cause is fixed

  Background:
    Given the organization uses the Procountor integration
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |

  Scenario: Invoices wait until the organization's bank account is given
    Given the organization has not given its bank account
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because NO_BANK_ACCOUNT
    And the reason says "bank account (IBAN)"
    When the organization gives its bank account
    And the integration runs again
    Then an invoice is made for task 501

  Scenario: Work finished before the start day is never invoiced
    Given the organization transfers tasks completed from 12 March 2025
    And task 501 was finished at 23:30 on 11 March 2025, Finnish time
    And a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 502 was finished at 00:30 on 12 March 2025, Finnish time
    When the integration runs
    Then no invoice is made for task 501
    And task 501 is held back because COMPLETED_BEFORE_START
    And the reason says "completed on 2025-03-11, before 2025-03-12"
    And an invoice is made for task 502
    When the integration runs again
    Then no invoice is made for task 501

  Scenario: Customers and products of old work are still brought to Procountor
    Given the organization transfers tasks completed from 12 March 2025
    And task 501 was finished at 10:00 on 1 March 2025, Finnish time
    When the integration runs
    Then Procountor has no invoices
    And Procountor has one customer "Rakennus Oy" with business ID "0112038-9"
    And Procountor has 1 product with code "ASE-1"

  Scenario: An invoice refused for a cause outside the task is sent again once someone asks for it
    Given Procountor receives invoices without the organization's bank account
    And the integration has run
    And task 501 failed because REJECTED_BY_PROCOUNTOR
    And the organization's bank account is corrected
    When the integration runs again
    Then no invoice is made for task 501
    When someone asks for task 501 to be tried again
    And the integration runs again
    Then an invoice is made for task 501
    And Procountor has 1 invoice

  Scenario: Asking again for an invoice Procountor already has changes nothing
    Given the integration has run
    When someone asks for task 501 to be tried again
    And the integration runs again
    Then Procountor has 1 invoice
